"""Built-in checks, one module per area. Each module's ``Check`` objects are found by the registry."""
