# ResidualBlock raises an error (wrong argument name); build_resnet fails through it.
# %%
# include: imports
# %%
def ResidualBlock(input, **kwargs):
    x = layers.Conv2D(padding="same", **kwargs)(input)
    x = layers.BatchNormalization()(x)
    x = layers.ReLU()(x)
    x = layers.Conv2D(padding="same", **kwargs)(x)
    x = layers.BatchNormalization()(x)
    x = layers.Add()([inputs, x])
    return layers.ReLU()(x)
# %%
# include: resnet_builder
# %%
# include: cnn_builder
