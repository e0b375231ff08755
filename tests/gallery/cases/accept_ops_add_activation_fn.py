# keras.ops.add with the shortcut first, Activation(keras.activations.relu).
# %%
import keras
from keras import layers, ops
# %%
def ResidualBlock(input, **kwargs):
    x = layers.Conv2D(padding="same", **kwargs)(input)
    x = layers.BatchNormalization()(x)
    x = layers.Activation(keras.activations.relu)(x)
    x = layers.Conv2D(padding="same", **kwargs)(x)
    x = layers.BatchNormalization()(x)
    x = ops.add(input, x)
    return layers.Activation(keras.activations.relu)(x)
# %%
# include: resnet_builder
# %%
# include: cnn_builder
