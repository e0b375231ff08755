"""Reference solution of "ResNet à la main" (questions q1 to q3).

Interim hand-written module: `make assign` regenerates it from the solution
cells of assignment/resnet_a_la_main.ipynb, the single source.
"""
from tensorflow import keras


def ResidualBlock(input, **kwargs):
    """Residual block of the original ResNet paper (identity shortcut).

    Args:
        input: Keras tensor of shape (batch, H, W, C).
        **kwargs: forwarded to both Conv2D layers (filters, kernel_size, ...).
            ``filters`` must equal C for the identity shortcut.

    Returns:
        Keras tensor of shape (batch, H, W, C).
    """
    x = keras.layers.Conv2D(padding="same", **kwargs)(input)
    x = keras.layers.BatchNormalization()(x)
    x = keras.layers.ReLU()(x)
    x = keras.layers.Conv2D(padding="same", **kwargs)(x)
    x = keras.layers.BatchNormalization()(x)
    x = keras.layers.Add()([input, x])
    return keras.layers.ReLU()(x)


def build_resnet(input_shape=(28, 28, 1), num_classes=10):
    """Small ResNet: a convolutional stem, two residual blocks, a softmax head.

    Args:
        input_shape: shape of one image, (H, W, channels).
        num_classes: number of classes.

    Returns:
        An uncompiled keras.Model mapping (batch, *input_shape) to
        (batch, num_classes) probabilities.
    """
    inputs = keras.layers.Input(shape=input_shape)
    x = keras.layers.Conv2D(32, 3, padding="same")(inputs)
    x = keras.layers.BatchNormalization()(x)
    x = keras.layers.ReLU()(x)
    x = keras.layers.MaxPooling2D()(x)
    x = ResidualBlock(x, filters=32, kernel_size=3)
    x = ResidualBlock(x, filters=32, kernel_size=3)
    x = keras.layers.GlobalAveragePooling2D()(x)
    outputs = keras.layers.Dense(num_classes, activation="softmax")(x)
    return keras.Model(inputs=inputs, outputs=outputs, name="resnet")


def build_cnn(input_shape=(28, 28, 1), num_classes=10):
    """Plain CNN with the same stem, depth and head as build_resnet, no shortcut.

    Args:
        input_shape: shape of one image, (H, W, channels).
        num_classes: number of classes.

    Returns:
        An uncompiled keras.Model mapping (batch, *input_shape) to
        (batch, num_classes) probabilities.
    """
    inputs = keras.layers.Input(shape=input_shape)
    x = keras.layers.Conv2D(32, 3, padding="same")(inputs)
    x = keras.layers.BatchNormalization()(x)
    x = keras.layers.ReLU()(x)
    x = keras.layers.MaxPooling2D()(x)
    for _ in range(4):
        x = keras.layers.Conv2D(32, 3, padding="same")(x)
        x = keras.layers.BatchNormalization()(x)
        x = keras.layers.ReLU()(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    outputs = keras.layers.Dense(num_classes, activation="softmax")(x)
    return keras.Model(inputs=inputs, outputs=outputs, name="cnn")
