# `x + input` and keras.ops.relu (operations absent from model.layers).
# %%
# include: imports
# %%
def ResidualBlock(input, **kwargs):
    x = layers.Conv2D(padding="same", **kwargs)(input)
    x = layers.BatchNormalization()(x)
    x = keras.ops.relu(x)
    x = layers.Conv2D(padding="same", **kwargs)(x)
    x = layers.BatchNormalization()(x)
    return keras.ops.relu(x + input)
# %%
# include: resnet_builder
# %%
# include: cnn_builder
