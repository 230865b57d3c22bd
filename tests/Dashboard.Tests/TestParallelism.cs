// These tests start real silo, agent and browser processes, and one measures how fast a failure reaches the page:
// classes running side by side on a 2-core machine would starve each other. Run one at a time.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
