"""After training: batch prediction with a prediction log, drift in sliding windows, latency.

Template machinery; configure it in params/monitor/.
"""
