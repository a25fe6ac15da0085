"""The long-running commands, each a loop over the engine's rounds: wait, watch, serve, init."""
