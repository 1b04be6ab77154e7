-- The month lock of late entries (R4.0, issue 13; server/lateentries.go).
-- An entry dated in a month holds the month's lock shared until its
-- transaction ends (a survey, written by its complaint's workflow, holds
-- it on a connection of its own until it is stored); computing the
-- month's results (ComputeResults) holds it exclusively. So a compute
-- starts only once every entry that asked the month's cycle, or found no
-- cycle yet, has committed or rolled back: a committed entry is counted
-- by the compute that follows, never missed between the two.

-- name: LockMonthForEntry :exec
SELECT pg_advisory_xact_lock_shared(hashtextextended('assessment-month:' || @month::text, 0));

-- name: LockMonthForEntrySession :exec
SELECT pg_advisory_lock_shared(hashtextextended('assessment-month:' || @month::text, 0));

-- name: LockMonthForCompute :exec
SELECT pg_advisory_xact_lock(hashtextextended('assessment-month:' || @month::text, 0));

-- name: UnlockAllForEntrySession :exec
-- Ends every session lock of the connection (a survey's, whatever it got).
SELECT pg_advisory_unlock_all();
