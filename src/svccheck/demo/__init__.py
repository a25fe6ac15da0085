"""The built-in demo fleet (`svccheck demo`) and the small HTTP server it runs on.

Nothing is imported here: `svccheck.demo.run` only needs the bundled
services.yaml, and the server loads when a command starts the fleet.
"""
