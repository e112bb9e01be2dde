package main

import "github.com/storify/storify"

// sampleCatalog is what a new store sells, so a newcomer can shop at once. A store
// gets it on its first opening only (storify.Admin.Initialize).
var sampleCatalog = []storify.NewProduct{
	{Name: "Blue Mug", Description: "A sturdy stoneware mug, 350 ml, dishwasher safe.", Price: 1250, Stock: 24},
	{Name: "Notebook", Description: "A5, 96 pages of dotted paper, lies flat.", Price: 690, Stock: 50},
	{Name: "Fountain Pen", Description: "Steel nib, medium, takes standard cartridges.", Price: 3400, Stock: 8},
	{Name: "Tea Sampler", Description: "Six loose-leaf teas, 25 g each.", Price: 1875, Stock: 15},
	{Name: "Desk Lamp", Description: "LED, warm white, folds flat.", Price: 4999, Stock: 5},
	{Name: "Sticker Pack", Description: "Twelve vinyl stickers of the store's logo.", Price: 300, Stock: 200},
}
