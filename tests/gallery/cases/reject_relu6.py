# A ReLU capped at 6 (ReLU(max_value=6)) is not a ReLU.
# %%
# include: imports
# %%
def ResidualBlock(input, **kwargs):
    x = layers.Conv2D(padding="same", **kwargs)(input)
    x = layers.BatchNormalization()(x)
    x = layers.ReLU(max_value=6.0)(x)
    x = layers.Conv2D(padding="same", **kwargs)(x)
    x = layers.BatchNormalization()(x)
    x = layers.Add()([input, x])
    return layers.ReLU(max_value=6.0)(x)
# %%
# include: resnet_builder
# %%
# include: cnn_builder
