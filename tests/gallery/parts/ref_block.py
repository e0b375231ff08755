def ResidualBlock(input, **kwargs):
    x = layers.Conv2D(padding="same", **kwargs)(input)
    x = layers.BatchNormalization()(x)
    x = layers.ReLU()(x)
    x = layers.Conv2D(padding="same", **kwargs)(x)
    x = layers.BatchNormalization()(x)
    x = layers.Add()([input, x])
    return layers.ReLU()(x)
