"""Builders and samples shared by the tests and the benchmarks: hardware profiles, configs, plans, fixtures."""
