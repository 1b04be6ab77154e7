package devstack

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"time"

	uiserver "github.com/temporalio/ui-server/v2/server"
	uiconfig "github.com/temporalio/ui-server/v2/server/config"
	uiserveroptions "github.com/temporalio/ui-server/v2/server/server_options"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/server/common/authorization"
	"go.temporal.io/server/common/cluster"
	"go.temporal.io/server/common/config"
	"go.temporal.io/server/common/dynamicconfig"
	"go.temporal.io/server/common/log"
	"go.temporal.io/server/common/membership/static"
	sqliteplugin "go.temporal.io/server/common/persistence/sql/sqlplugin/sqlite"
	"go.temporal.io/server/common/primitives"
	sqliteschema "go.temporal.io/server/schema/sqlite"
	"go.temporal.io/server/temporal"
)

// TemporalOptions configure the embedded development Temporal server.
type TemporalOptions struct {
	// DBFile is the SQLite file that keeps workflows and timers across
	// restarts, unless Postgres is set.
	DBFile string
	// Postgres, when set, keeps the server's data in PostgreSQL instead
	// (TEMPORAL_PERSISTENCE=postgres): the persistence a real cluster uses,
	// so a topology of several workers and servers can be tried on it.
	Postgres *PostgresStore
	// LogFile receives the server's own (chatty) log.
	LogFile   string
	IP        string // listen address of every service, e.g. 127.0.0.1
	Port      int    // frontend gRPC port (7233)
	UIPort    int    // Web UI port (8233); 0 disables the UI
	Namespace string
	// SearchAttributes are registered on the namespace when it is created;
	// later additions are registered through the operator API (worker package).
	SearchAttributes map[string]enumspb.IndexedValueType
	// DynamicConfigFile (TEMPORAL_DYNAMIC_CONFIG) is an optional YAML file
	// in Temporal's dynamic-config format, read every 10 s; its keys win
	// over the built-in settings below (to try a server lever without a
	// rebuild, as the issue 9 experiments did).
	DynamicConfigFile string
}

// Temporal is a running embedded Temporal server and its Web UI.
type Temporal struct {
	server temporal.Server
	ui     *uiserver.Server
	uiErr  chan error
	// Address is the frontend's host:port for SDK clients.
	Address string
	// UIURL is the Web UI's address, "" when disabled.
	UIURL string
}

// StartTemporal starts a single-process Temporal (frontend, history,
// matching, worker services), on SQLite the way the Temporal CLI's dev
// server does, or on PostgreSQL (o.Postgres). Development and tests only:
// production binaries never link this.
func StartTemporal(o TemporalOptions) (*Temporal, error) {
	if o.LogFile != "" {
		if err := os.MkdirAll(filepath.Dir(o.LogFile), 0o755); err != nil {
			return nil, err
		}
	}
	// The server's own log (chatty: warnings and up only), also the schema
	// tools' when on PostgreSQL.
	logger := log.NewZapLogger(log.BuildZapLogger(log.Config{Level: "warn", Format: "json", OutputFile: o.LogFile}))
	const clusterName = "active"
	ns, err := sqliteschema.NewNamespaceConfig(clusterName, o.Namespace, false, o.SearchAttributes)
	if err != nil {
		return nil, fmt.Errorf("temporal: namespace config: %w", err)
	}
	var persistence config.Persistence
	if o.Postgres != nil {
		if persistence, err = o.Postgres.prepare(ns, logger); err != nil {
			return nil, err
		}
	} else if persistence, err = prepareSQLite(o.DBFile, ns); err != nil {
		return nil, err
	}

	ports := map[string]int{"frontend": o.Port}
	for _, svc := range []string{"history", "matching", "worker", "frontend-http"} {
		if ports[svc], err = freePort(o.IP); err != nil {
			return nil, err
		}
	}
	hostPort := func(port int) string { return net.JoinHostPort(o.IP, strconv.Itoa(port)) }
	conf := &config.Config{}
	conf.Global.Membership = config.Membership{MaxJoinDuration: 30 * time.Second, BroadcastAddress: o.IP}
	conf.Persistence = persistence
	conf.ClusterMetadata = &cluster.Config{
		FailoverVersionIncrement: 10,
		MasterClusterName:        clusterName,
		CurrentClusterName:       clusterName,
		ClusterInformation: map[string]cluster.ClusterInformation{clusterName: {
			Enabled:                true,
			InitialFailoverVersion: 1,
			RPCAddress:             hostPort(o.Port),
			HTTPAddress:            hostPort(ports["frontend-http"]),
		}},
	}
	conf.DCRedirectionPolicy.Policy = "noop"
	service := func(name string) config.Service {
		var s config.Service
		s.RPC.GRPCPort = ports[name]
		s.RPC.BindOnIP = o.IP
		if name == "frontend" {
			s.RPC.HTTPPort = ports["frontend-http"]
		}
		return s
	}
	conf.Services = map[string]config.Service{}
	hosts := map[primitives.ServiceName]static.Hosts{}
	for _, name := range []primitives.ServiceName{primitives.FrontendService, primitives.HistoryService, primitives.MatchingService, primitives.WorkerService} {
		conf.Services[string(name)] = service(string(name))
		hosts[name] = static.SingleLocalHost(hostPort(ports[string(name)]))
	}
	conf.Archival.History.State = "disabled"
	conf.Archival.Visibility.State = "disabled"
	conf.NamespaceDefaults.Archival.History.State = "disabled"
	conf.NamespaceDefaults.Archival.Visibility.State = "disabled"
	conf.PublicClient.HostPort = hostPort(o.Port)

	authorizer, err := authorization.GetAuthorizerFromConfig(&conf.Global.Authorization)
	if err != nil {
		return nil, err
	}
	claimMapper, err := authorization.GetClaimMapperFromConfig(&conf.Global.Authorization, logger)
	if err != nil {
		return nil, err
	}
	var dynamic dynamicconfig.Client = devDynamicConfig
	if o.DynamicConfigFile != "" {
		file, err := dynamicconfig.NewFileBasedClient(&dynamicconfig.FileBasedClientConfig{
			Filepath: o.DynamicConfigFile, PollInterval: 10 * time.Second,
		}, logger, make(chan any))
		if err != nil {
			return nil, fmt.Errorf("TEMPORAL_DYNAMIC_CONFIG: %w", err)
		}
		dynamic = layered{file, devDynamicConfig}
	}
	srv, err := temporal.NewServer(
		temporal.WithConfig(conf),
		temporal.ForServices(temporal.DefaultServices),
		temporal.WithStaticHosts(hosts),
		temporal.WithLogger(logger),
		temporal.WithAuthorizer(authorizer),
		temporal.WithClaimMapper(func(*config.Config) authorization.ClaimMapper { return claimMapper }),
		temporal.WithDynamicConfigClient(dynamic),
	)
	if err != nil {
		return nil, fmt.Errorf("temporal: new server: %w", err)
	}
	t := &Temporal{server: srv, Address: hostPort(o.Port)}
	if o.UIPort != 0 {
		t.ui = uiserver.NewServer(uiserveroptions.WithConfigProvider(&uiconfig.Config{
			Host:                o.IP,
			Port:                o.UIPort,
			TemporalGRPCAddress: t.Address,
			EnableUI:            true,
			DefaultNamespace:    o.Namespace,
			CORS:                uiconfig.CORS{CookieInsecure: true},
			HideLogs:            true,
			DisableNewsFetch:    true, // no network but loopback here
		}))
		t.UIURL = "http://" + hostPort(o.UIPort)
	}
	if err := srv.Start(); err != nil {
		return nil, fmt.Errorf("temporal: start: %w", err)
	}
	if t.ui != nil {
		t.uiErr = make(chan error, 1)
		// ui.Start blocks until Stop; a bind failure comes back on uiErr.
		go func() { t.uiErr <- t.ui.Start() }()
	}
	return t, nil
}

// prepareSQLite creates the SQLite file with its schema on the first run
// and the namespace, and returns the persistence that uses it.
func prepareSQLite(file string, ns *sqliteschema.NamespaceConfig) (config.Persistence, error) {
	if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
		return config.Persistence{}, err
	}
	sqlConf := &config.SQL{
		PluginName:   sqliteplugin.PluginName,
		DatabaseName: file,
		// The plugin passes every attribute but a few URI parameters to the
		// driver as a pragma, by its plain name (a leading underscore made
		// it an unknown pragma the driver ignored: the file stayed in
		// rollback-journal mode, syncing on every commit). WAL keeps the
		// UI's reads from blocking the history service's writes, and with
		// it synchronous=NORMAL (1) syncs at checkpoints rather than every
		// commit: still corruption-safe, losing at most the last commits on
		// a power cut, which a development server can afford.
		ConnectAttributes: map[string]string{"mode": "rwc", "journal_mode": "wal", "synchronous": "1"},
	}
	if _, err := os.Stat(file); errors.Is(err, os.ErrNotExist) {
		if err := sqliteschema.SetupSchema(sqlConf); err != nil {
			return config.Persistence{}, fmt.Errorf("temporal: create sqlite schema: %w", err)
		}
	}
	if err := sqliteschema.CreateNamespaces(sqlConf, ns); err != nil { // a no-op when it exists
		return config.Persistence{}, fmt.Errorf("temporal: create namespace: %w", err)
	}
	return config.Persistence{
		DefaultStore:     "sqlite",
		VisibilityStore:  "sqlite",
		NumHistoryShards: 1,
		DataStores:       map[string]config.DataStore{"sqlite": {SQL: sqlConf}},
	}, nil
}

// devDynamicConfig is the embedded server's tuning (issue 9, README
// "Performance").
var devDynamicConfig = dynamicconfig.StaticClient{
	// Let the Web UI and `temporal workflow list` query freely.
	dynamicconfig.FrontendMaxNamespaceVisibilityRPSPerInstance.Key(): 100,
	// One partition per task queue: a single-process server gains
	// nothing from four, and with four a burst's tasks sat on
	// partitions no poller was waiting on (tens of seconds late).
	dynamicconfig.MatchingNumTaskqueueReadPartitions.Key():  1,
	dynamicconfig.MatchingNumTaskqueueWritePartitions.Key(): 1,
}

// layered answers each key from the first client that has it.
type layered []dynamicconfig.Client

func (l layered) GetValue(key dynamicconfig.Key) []dynamicconfig.ConstrainedValue {
	for _, c := range l {
		if v := c.GetValue(key); len(v) > 0 {
			return v
		}
	}
	return nil
}

// UIErr reports the Web UI's failure to serve (nil channel when disabled).
func (t *Temporal) UIErr() <-chan error { return t.uiErr }

// Stop stops the UI and the server.
func (t *Temporal) Stop() error {
	if t.ui != nil {
		t.ui.Stop()
	}
	return t.server.Stop()
}

func freePort(ip string) (int, error) {
	l, err := net.Listen("tcp", net.JoinHostPort(ip, "0"))
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
