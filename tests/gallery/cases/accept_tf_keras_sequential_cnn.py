# `from tensorflow.keras import ...` imports; build_cnn as keras.Sequential.
# %%
import tensorflow as tf
from tensorflow.keras import Model, Sequential
from tensorflow.keras.layers import (Add, BatchNormalization, Conv2D, Dense, Flatten,
                                     Input, MaxPooling2D, ReLU)
# %%
def ResidualBlock(input, **kwargs):
    x = Conv2D(padding="same", **kwargs)(input)
    x = BatchNormalization()(x)
    x = ReLU()(x)
    x = Conv2D(padding="same", **kwargs)(x)
    x = BatchNormalization()(x)
    return ReLU()(Add()([x, input]))
# %%
def build_resnet(input_shape=(28, 28, 1), num_classes=10):
    inputs = Input(shape=input_shape)
    x = Conv2D(16, 3, padding="same")(inputs)
    x = BatchNormalization()(x)
    x = ReLU()(x)
    x = MaxPooling2D()(x)
    x = ResidualBlock(x, filters=16, kernel_size=3)
    x = ResidualBlock(x, filters=16, kernel_size=3)
    x = MaxPooling2D()(x)
    x = Flatten()(x)
    return Model(inputs, Dense(num_classes, activation="softmax")(x))
# %%
def build_cnn(input_shape=(28, 28, 1), num_classes=10):
    return Sequential([
        Input(shape=input_shape),
        Conv2D(32, 3, padding="same", activation="relu"),
        MaxPooling2D(),
        Conv2D(64, 3, padding="same", activation="relu"),
        MaxPooling2D(),
        Flatten(),
        Dense(64, activation="relu"),
        Dense(num_classes, activation="softmax"),
    ])
