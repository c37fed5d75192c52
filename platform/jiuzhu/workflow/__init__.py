"""The workflow engine: runs the steps a jurisdiction plugin declares."""
