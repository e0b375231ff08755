# Identity layers (Activation("linear"), Identity) in place of the BatchNormalizations (fake layers).
# %%
# include: imports
# %%
def ResidualBlock(input, **kwargs):
    x = layers.Conv2D(padding="same", **kwargs)(input)
    x = layers.Activation("linear", name=None)(x)
    x = layers.ReLU()(x)
    x = layers.Conv2D(padding="same", **kwargs)(x)
    x = layers.Identity()(x)
    x = layers.Add()([input, x])
    return layers.ReLU()(x)
# %%
# include: resnet_builder
# %%
# include: cnn_builder
