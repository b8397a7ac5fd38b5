//! Body transformations (being written).
