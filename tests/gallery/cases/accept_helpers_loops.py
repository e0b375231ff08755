# Helper functions, loops, custom names, use_bias=False, initialisers, BN options,
# stem without BN, Flatten+Dense head, model compiled inside the builder.
# %%
# include: imports
# %%
def conv_bn(x, name, **kwargs):
    x = layers.Conv2D(padding="same", name=name + "_conv", **kwargs)(x)
    return layers.BatchNormalization(momentum=0.9, epsilon=1e-3, name=name + "_bn")(x)

def ResidualBlock(input, **kwargs):
    ResidualBlock.count = getattr(ResidualBlock, "count", 0) + 1
    name = f"bloc{ResidualBlock.count}"
    shortcut = input
    x = input
    for i in range(2):
        x = conv_bn(x, f"{name}_{i}", **kwargs)
        if i == 0:
            x = layers.ReLU(name=name + "_relu")(x)
    somme = layers.Add(name=name + "_somme")([shortcut, x])
    return layers.ReLU(name=name + "_sortie")(somme)
# %%
def build_resnet(input_shape=(28, 28, 1), num_classes=10):
    entree = keras.Input(shape=input_shape, name="images")
    x = layers.Conv2D(24, 3, padding="same", activation="relu",
                      kernel_initializer="he_normal")(entree)
    x = layers.MaxPooling2D(2)(x)
    for _ in range(2):
        x = ResidualBlock(x, filters=24, kernel_size=(3, 3), use_bias=False,
                          kernel_initializer="he_normal")
    x = layers.Flatten()(x)
    x = layers.Dense(32, activation="relu")(x)
    sortie = layers.Dense(num_classes, activation="softmax", name="probas")(x)
    model = keras.Model(entree, sortie, name="mon_resnet")
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model
# %%
# include: cnn_builder
