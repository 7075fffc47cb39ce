//! The CUDA backend (cudarc, cuBLAS, NVRTC kernels).
