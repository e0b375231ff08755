# Shortcut taken after the first convolution instead of the block input.
# %%
# include: imports
# %%
def ResidualBlock(input, **kwargs):
    first = layers.Conv2D(padding="same", **kwargs)(input)
    x = layers.BatchNormalization()(first)
    x = layers.ReLU()(x)
    x = layers.Conv2D(padding="same", **kwargs)(x)
    x = layers.BatchNormalization()(x)
    x = layers.Add()([first, x])
    return layers.ReLU()(x)
# %%
# include: resnet_builder
# %%
# include: cnn_builder
