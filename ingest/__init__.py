"""MQTT ingest: the contract parser at the edge, the subscriber loop and the embedded broker."""
