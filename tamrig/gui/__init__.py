"""Operator window (PyQt6 + pyqtgraph): a thin front end over the rig, the engine and its events.

Nothing here touches a device from the GUI thread: device calls run in worker threads that
serialise access through :class:`tamrig.gui.rigaccess.RigAccess`, and the scan engine runs in
its own thread, its events bridged to Qt signals.
"""
