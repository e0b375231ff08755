# A home-made class called Add that subtracts (fake layer).
# %%
# include: imports
# %%
class Add(keras.layers.Layer):
    def call(self, inputs):
        return inputs[0] - inputs[1]

def ResidualBlock(input, **kwargs):
    x = layers.Conv2D(padding="same", **kwargs)(input)
    x = layers.BatchNormalization()(x)
    x = layers.ReLU()(x)
    x = layers.Conv2D(padding="same", **kwargs)(x)
    x = layers.BatchNormalization()(x)
    x = Add()([input, x])
    return layers.ReLU()(x)
# %%
# include: resnet_builder
# %%
# include: cnn_builder
