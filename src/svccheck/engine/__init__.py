"""Run the selected checks: concurrency, per-origin gates, attempt timeouts, retries, the deadline,
signals and the one rounds loop. The network itself is the protocols' (`svccheck.protocols`)."""
