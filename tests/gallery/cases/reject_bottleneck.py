# Bottleneck block: 1x1 -> 3x3 -> 1x1 convolutions.
# %%
# include: imports
# %%
def ResidualBlock(input, **kwargs):
    filters = kwargs["filters"]
    x = layers.Conv2D(filters // 2, 1)(input)
    x = layers.BatchNormalization()(x)
    x = layers.ReLU()(x)
    x = layers.Conv2D(padding="same", **{**kwargs, "filters": filters // 2})(x)
    x = layers.BatchNormalization()(x)
    x = layers.ReLU()(x)
    x = layers.Conv2D(filters, 1)(x)
    x = layers.BatchNormalization()(x)
    x = layers.Add()([input, x])
    return layers.ReLU()(x)
# %%
# include: resnet_builder
# %%
# include: cnn_builder
