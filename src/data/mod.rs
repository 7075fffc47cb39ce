//! Datasets, loaders, scalers, splits and file readers (IDX, CSV).
