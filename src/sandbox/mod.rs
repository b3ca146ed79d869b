//! The NicSRS simulator.
