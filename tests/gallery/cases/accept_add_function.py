# layers.add (function), Activation("relu"), shortcut second.
# %%
# include: imports
# %%
def ResidualBlock(input, **kwargs):
    x = layers.Conv2D(padding="same", **kwargs)(input)
    x = layers.BatchNormalization()(x)
    x = layers.Activation("relu")(x)
    x = layers.Conv2D(padding="same", **kwargs)(x)
    x = layers.BatchNormalization()(x)
    x = layers.add([x, input])
    return layers.Activation("relu")(x)
# %%
# include: resnet_builder
# %%
# include: cnn_builder
