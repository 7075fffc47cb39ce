//! Neural-network building blocks: the `Module` trait, `Sequential`, layers and initialisers.
