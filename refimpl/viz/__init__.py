"""Pictures: graph drawings and plots (``plotting``), py3Dmol molecule views (``viz3d``)."""
