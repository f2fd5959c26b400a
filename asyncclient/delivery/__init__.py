"""Getting logged records from the rings to their destinations.

- ``plan``: records -> per-run log-batch requests within the destination's limits, barriers kept in order
- ``deliverer``: drains rings into transports; retry, split and error policies; never stops
- ``agent``: the delivery agent process (one per user and spool folder); ``agent_link``: a writer's side of it
- ``worker``: the in-process fallback (a worker thread) where no agent can run
- ``control``: synchronous control-plane calls (create_run, get_run, search_runs, ...)
"""
