# kwargs ignored: filters and kernel size hard-coded.
# %%
# include: imports
# %%
def ResidualBlock(input, **kwargs):
    channels = input.shape[-1]
    x = layers.Conv2D(channels, 3, padding="same")(input)
    x = layers.BatchNormalization()(x)
    x = layers.ReLU()(x)
    x = layers.Conv2D(channels, 3, padding="same")(x)
    x = layers.BatchNormalization()(x)
    x = layers.Add()([input, x])
    return layers.ReLU()(x)
# %%
# include: resnet_builder
# %%
# include: cnn_builder
