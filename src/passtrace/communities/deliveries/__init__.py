"""Deliveries: couriers hand parcels over at the gate; residents collect them."""
