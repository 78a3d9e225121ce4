"""Detector plugins: every concrete `Detector` subclass defined in a module here is used."""
