"""MLflow's GraphQL endpoint (``/graphql``): the queries and mutations MLflow's web UI sends, with graphene."""
