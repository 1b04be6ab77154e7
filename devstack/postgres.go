package devstack

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"go.temporal.io/server/common/config"
	"go.temporal.io/server/common/log"
	postgresplugin "go.temporal.io/server/common/persistence/sql/sqlplugin/postgresql"
	sqliteschema "go.temporal.io/server/schema/sqlite"
	schematool "go.temporal.io/server/tools/common/schema"
	sqltool "go.temporal.io/server/tools/sql"

	"github.com/acme/aftersales/localpg"
)

// PostgresStore is where the embedded Temporal server keeps its data when
// it runs on PostgreSQL: two databases on one server, which must exist.
// StartTemporal creates or upgrades the schema inside them.
type PostgresStore struct {
	// Host is a host name or address, or the directory of a unix socket
	// (an absolute path, as localpg gives).
	Host     string
	Port     int
	User     string
	Password string
	// Database holds executions, history, timers and task queues (e.g.
	// "temporal"); VisibilityDatabase the workflow lists and search
	// attributes (e.g. "temporal_visibility"), as on a real cluster.
	Database           string
	VisibilityDatabase string
}

// TemporalStoreIn creates the Temporal databases ("temporal" and
// "temporal_visibility") in a local cluster, beside the service's own, if
// they are missing, and returns the store that uses them: what make run
// does with TEMPORAL_PERSISTENCE=postgres, and what the topology test uses.
// Start the cluster with max_connections PostgresMaxConnections.
func TemporalStoreIn(ctx context.Context, c *localpg.Cluster) (*PostgresStore, error) {
	for _, name := range []string{temporalDatabase, temporalVisibilityDatabase} {
		if err := c.CreateDatabase(ctx, name); err != nil {
			return nil, err
		}
	}
	return &PostgresStore{
		Host: c.SocketDir, Port: c.Port, User: localpg.User,
		Database: temporalDatabase, VisibilityDatabase: temporalVisibilityDatabase,
	}, nil
}

// The embedded server's shape on PostgreSQL.
const (
	// postgresHistoryShards is fixed when the store is first used (the
	// server refuses another count later). More than SQLite's one: shards
	// are the history service's unit of parallelism and of locking, and
	// PostgreSQL, unlike one SQLite file, takes concurrent writers.
	postgresHistoryShards = 4
	// postgresMaxConns bounds each connection pool. The four services each
	// open one per store (eight pools), and the local cluster also serves
	// the read model's pools: the dev launcher raises its max_connections
	// to PostgresMaxConnections.
	postgresMaxConns = 10
	// PostgresMaxConnections is the max_connections a local cluster needs
	// to hold the embedded server's pools beside the service's own.
	PostgresMaxConnections = 200
)

// sqlConfig is the Temporal SQL store of database on p, through the pgx
// driver (the same driver as the rest of the service).
func (p *PostgresStore) sqlConfig(database string) *config.SQL {
	c := &config.SQL{
		PluginName:      postgresplugin.PluginNamePGX,
		DatabaseName:    database,
		ConnectAddr:     net.JoinHostPort(p.Host, strconv.Itoa(p.Port)),
		ConnectProtocol: "tcp",
		User:            p.User,
		Password:        p.Password,
		MaxConns:        postgresMaxConns,
		MaxIdleConns:    postgresMaxConns,
		MaxConnLifetime: time.Hour,
	}
	if strings.HasPrefix(p.Host, "/") {
		// The plugin puts ConnectAddr in a URL's host part, which cannot
		// hold a socket's directory; pgx takes it from a "host" parameter
		// instead, which wins over the URL's host.
		c.ConnectAddr = net.JoinHostPort("localhost", strconv.Itoa(p.Port))
		c.ConnectAttributes = map[string]string{"host": p.Host}
	}
	return c
}

// prepare brings both databases' schema up to date, registers the
// namespace, and returns the persistence that uses them.
func (p *PostgresStore) prepare(ns *sqliteschema.NamespaceConfig, logger log.Logger) (config.Persistence, error) {
	main, visibility := p.sqlConfig(p.Database), p.sqlConfig(p.VisibilityDatabase)
	if err := setupPostgresSchema(main, "postgresql/v12/temporal", logger); err != nil {
		return config.Persistence{}, err
	}
	if err := setupPostgresSchema(visibility, "postgresql/v12/visibility", logger); err != nil {
		return config.Persistence{}, err
	}
	// Registered in the store before the server starts, with the search
	// attributes mapped to their columns, as on SQLite: registering them
	// through the API once it runs would leave them unknown to the
	// frontend until its namespace cache refreshes. Despite its package,
	// CreateNamespaces writes through the SQL persistence layer of the
	// plugin the config names, and PostgreSQL's visibility schema has the
	// same pre-allocated columns (Keyword01, Datetime01...) as SQLite's.
	if err := sqliteschema.CreateNamespaces(main, ns); err != nil { // a no-op when it exists
		return config.Persistence{}, fmt.Errorf("temporal: create namespace in %s: %w", p.Database, err)
	}
	return config.Persistence{
		DefaultStore:     "postgres",
		VisibilityStore:  "postgres-visibility",
		NumHistoryShards: postgresHistoryShards,
		DataStores: map[string]config.DataStore{
			"postgres":            {SQL: main},
			"postgres-visibility": {SQL: visibility},
		},
	}, nil
}

// setupPostgresSchema creates or upgrades the Temporal schema schemaName
// (a directory of the server module's embedded schema files) in c's
// database, the way the server's own tool does it (`temporal-sql-tool
// setup-schema -v 0.0`, then `update-schema` over the versioned
// directories; what Temporal's auto-setup image runs). A new database gets
// every version in order, an existing one only those it lacks: after a
// Temporal upgrade the next start upgrades the store.
func setupPostgresSchema(c *config.SQL, schemaName string, logger log.Logger) error {
	conn, err := sqltool.NewConnection(c, logger)
	if err != nil {
		return fmt.Errorf("temporal: connect to PostgreSQL database %s: %w", c.DatabaseName, err)
	}
	defer conn.Close()
	// The version tables, and version 0.0 when there is none yet.
	setup := schematool.NewSetupSchemaTask(conn, &schematool.SetupConfig{InitialVersion: "0.0"}, logger)
	if err := setup.Run(); err != nil {
		return fmt.Errorf("temporal: set up schema versioning in %s: %w", c.DatabaseName, err)
	}
	update := schematool.NewUpdateSchemaTask(conn, &schematool.UpdateConfig{DBName: c.DatabaseName, SchemaName: schemaName}, logger)
	if err := update.Run(); err != nil {
		return fmt.Errorf("temporal: update schema %s in %s: %w", schemaName, c.DatabaseName, err)
	}
	return nil
}
