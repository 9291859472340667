from tests.servers import sim_server  # noqa: F401  (the fixture)
