"""Real hardware drivers, one module per instrument family, behind tamrig's interfaces."""
