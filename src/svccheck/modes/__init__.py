"""What each command does over the engine, given the settings its options built (`settings`).

`checking`: all, check, demo and wait (load, select, run, `deliver` the report);
`wait`, `watch`, `serve`: loops over the engine's rounds; `init`: a manifest from probing.
"""
