// Every class here starts real processes (silos, agents, serf, etcd, PostgreSQL clients) and several assert on time
// (failure detection within 2 s, watches that must not fall behind). On a 2-core machine, classes running side by side
// starve each other's processes into timeouts; run one at a time instead.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
