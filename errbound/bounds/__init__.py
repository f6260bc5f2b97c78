"""Error bounds, each as a sympy expression (for proofs_numeric/ and docs/theory.md) and a fast
numeric function. ``discretization`` holds the bounds on V_s(w) - vhat(w) and on the layer output;
``precision`` holds the floating-point bounds (input rounding, FFT worst case and probabilistic,
matrix-product DFT, composite spectral block). Statement numbers refer to docs/theory.md.
"""
