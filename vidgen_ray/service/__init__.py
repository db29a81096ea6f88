"""The job service: HTTP on Ray Serve (``api``), its decisions apart from HTTP (keys,
requests, answers), the web monitor's page and data, and a client of it for the CLI."""
