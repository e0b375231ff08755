# Pre-activation (ResNet v2) block: BN -> ReLU -> Conv twice, then add.
# %%
# include: imports
# %%
def ResidualBlock(input, **kwargs):
    x = layers.BatchNormalization()(input)
    x = layers.ReLU()(x)
    x = layers.Conv2D(padding="same", **kwargs)(x)
    x = layers.BatchNormalization()(x)
    x = layers.ReLU()(x)
    x = layers.Conv2D(padding="same", **kwargs)(x)
    return layers.Add()([input, x])
# %%
# include: resnet_builder
# %%
# include: cnn_builder
