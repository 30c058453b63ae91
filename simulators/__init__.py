"""Simulated devices, the virtual TAM sample, and protocol emulators for driver tests."""
