"""The engine: results, checks, facts, registry, runner, the session that ties them, redaction."""
