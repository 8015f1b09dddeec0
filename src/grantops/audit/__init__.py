"""The audit trail: a hash-chained event log and the reports built from it."""
