"""Sub-commands of the ``tamrig`` CLI; each module has ``add_arguments`` and ``run``."""
