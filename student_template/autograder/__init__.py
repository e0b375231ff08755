"""ResNet à la main: checks, grading engine and reports for the Keras ResNet assignment."""

__version__ = "0.1.0"
