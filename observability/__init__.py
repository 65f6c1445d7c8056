"""What an operator sees: metrics, structured logs and the request id (`telemetry`), OpenTelemetry
traces (`tracing`), and progress bars for long work (`progress`). Imports nothing of the project."""
