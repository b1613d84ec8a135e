"""Simulation for tests, benchmarks, the demo and ``--simulate``: a simulated wearer
(:mod:`sim.wearer`), sensors that stream it with or without simulated Bluetooth, and
simulated time. Product code imports it only on its demo and ``--simulate`` paths
(tests/test_layering.py); this file imports nothing, so ``import sim.clock``
stays light."""
