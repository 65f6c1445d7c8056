"""The benchmark harness: standard workloads against a real server process under load."""
