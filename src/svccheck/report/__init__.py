"""Renderers: each a function of the one Report model; none re-decides a verdict."""
