# kwargs forwarded to the first convolution only.
# %%
# include: imports
# %%
def ResidualBlock(input, **kwargs):
    x = layers.Conv2D(padding="same", **kwargs)(input)
    x = layers.BatchNormalization()(x)
    x = layers.ReLU()(x)
    x = layers.Conv2D(input.shape[-1], 3, padding="same")(x)
    x = layers.BatchNormalization()(x)
    x = layers.Add()([input, x])
    return layers.ReLU()(x)
# %%
# include: resnet_builder
# %%
# include: cnn_builder
