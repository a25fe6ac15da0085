"""What the tests share, one job a module; tests import it as `support.<module>`.

- `cli`: the real CLI as a subprocess with a clean environment: `cli_env`, `run_cli`,
  `assert_no_traceback`, `start_cli` and `interrupt_when` (for the tests that signal it).
- `servers`: loopback servers in this process: `serving` (HTTP handlers and the manifest
  naming their ports, for module-scoped fixtures), the `Counting` handler, `half_stuck_fleet`,
  and `tcp_listener` with its `Banner` handler.
- `real_services`: a real Redis and PostgreSQL from the distribution's packages, `free_port`,
  and TLS files for them.
- `terminal`: the CLI on a real pseudo-terminal (`run_on_terminal`, `Screen`).
- `sample_reports`: reports built in memory for the renderers (`make_check`, `result`,
  `mixed_report`, `passing_report`, `SECRET`).
- `hostile`: hostile text: `PIECES`, `FORBIDDEN`, `hostile_report`, and the GitHub
  Actions runner's reading of a CI log (`through_guard`, `runner_commands`).
- `browser`: the distribution's Chromium, headless, driven by Playwright: `opened(path)` gives a
  `Visit` recording every request, console error and dialog (skips when Chromium is missing).
- `health_strategies`: hypothesis strategies for health responses (`CONTENT_TYPES`,
  `json_values`, `health_bodies`).
- `resource_run`: not imported: a script `test_resources.py` runs in a fresh interpreter
  (1,000 checks, their descriptors and peak RSS).

The pytest fixtures (`servers`, `manifest_file`, `redis_port`, `postgres_port`,
`banner_port`) are in `tests/conftest.py`, built from these. Nothing here is a test module,
and nothing here imports one.
"""
