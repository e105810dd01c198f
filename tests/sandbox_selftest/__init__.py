"""Self-tests of the GetResponse sandbox (tests/sandbox), through plain HTTP requests."""
